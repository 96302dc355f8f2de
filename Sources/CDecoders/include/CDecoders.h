// Plain C entry points to Debian's libpng, libjpeg-turbo and zlib for the
// dataset readers. libpng and libjpeg report errors by longjmp, which Swift
// cannot survive, so every setjmp lives inside these functions: each call
// returns a status and, on failure, a one-line message, and leaks nothing.
#ifndef CDECODERS_H
#define CDECODERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Status of a decode or inflate call.
enum {
    CDEC_OK = 0,
    /// The data is not a valid file of the format; `message` says why.
    CDEC_CORRUPT = 1,
    /// The header claims more pixels than the caller allows; nothing was allocated.
    CDEC_TOO_LARGE = 2,
    /// A feature the readers do not handle (e.g. CMYK JPEG); `message` says which.
    CDEC_UNSUPPORTED = 3,
    /// malloc failed.
    CDEC_NO_MEMORY = 4,
};

/// Size of `cdec_image.message`, including the terminating zero.
#define CDEC_MESSAGE_SIZE 256

/// A decoded image: 8-bit samples, rows top first, pixels interleaved
/// (grey, or red green blue). Alpha is dropped, palettes and low bit depths
/// are expanded, 16-bit samples keep their high byte.
typedef struct {
    /// `height * width * channels` bytes from malloc; release with `cdec_free`. NULL on failure.
    unsigned char *pixels;
    uint32_t width;
    uint32_t height;
    /// 1 (grey) or 3 (RGB).
    uint32_t channels;
    /// On failure, a one-line explanation naming the field at fault; "" on success.
    char message[CDEC_MESSAGE_SIZE];
} cdec_image;

/// Decodes the PNG file in `data`; images of more than `max_pixels` pixels are
/// refused before their pixels are allocated.
int cdec_decode_png(const unsigned char *data, size_t size, uint64_t max_pixels, cdec_image *out);

/// Decodes the baseline or progressive JPEG file in `data`, likewise bounded.
/// Premature ends and corrupt entropy-coded data are errors, not warnings.
int cdec_decode_jpeg(const unsigned char *data, size_t size, uint64_t max_pixels, cdec_image *out);

/// Releases memory returned by the decoders.
void cdec_free(void *pointer);

/// Inflates the raw deflate stream `in` (no zlib or gzip wrapper, as in zip
/// entries) into exactly `out_size` bytes at `out`. Fails, with `message`,
/// when the stream is corrupt, truncated, or inflates to another size.
int cdec_inflate_raw(const unsigned char *in, size_t in_size, unsigned char *out, size_t out_size,
                     char *message, size_t message_size);

/// The CRC-32 of `data` (the checksum zip entries store).
uint32_t cdec_crc32(const unsigned char *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif
