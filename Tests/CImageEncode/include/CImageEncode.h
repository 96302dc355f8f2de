// Test-only encoders: the same libpng and libjpeg-turbo the readers decode
// with write the PNG and JPEG fixtures, in every variant the readers must
// handle (palette, 16-bit, alpha, interlaced, progressive, grey).
#ifndef CIMAGEENCODE_H
#define CIMAGEENCODE_H

#include <stddef.h>
#include <stdint.h>

/// PNG colour types as written (the pixels passed are always 8-bit grey or RGB).
enum {
    CENC_PNG_GREY = 0,
    CENC_PNG_RGB = 1,
    /// RGB pixels written as a palette image (each pixel's colour must be one of at most 256).
    CENC_PNG_PALETTE = 2,
    /// Grey or RGB plus an alpha channel of 255 - x (the reader must drop it).
    CENC_PNG_ALPHA = 3,
    /// Samples widened to 16 bits as v * 257 (the reader must keep the high byte, v).
    CENC_PNG_SIXTEEN = 4,
};

/// Encodes `height * width * channels` interleaved 8-bit samples (channels 1
/// or 3) as a PNG of `kind`, Adam7-interlaced if `interlaced`. Returns the
/// file in `*out` (release with `cenc_free`) and its size, or 0 on failure.
size_t cenc_png(const unsigned char *pixels, uint32_t width, uint32_t height, uint32_t channels, int kind,
                int interlaced, unsigned char **out);

/// Encodes the same as a JPEG of `quality` (1-100), progressive if asked;
/// `channels` 4 writes CMYK (which the reader refuses).
size_t cenc_jpeg(const unsigned char *pixels, uint32_t width, uint32_t height, uint32_t channels, int quality,
                 int progressive, unsigned char **out);

/// Compresses `size` bytes as a raw deflate stream (as zip entries hold it)
/// at `level` (0-9). Returns the stream in `*out` (release with `cenc_free`)
/// and its size, or 0 on failure.
size_t cenc_deflate_raw(const unsigned char *data, size_t size, int level, unsigned char **out);

/// zlib's CRC-32 of `data`.
uint32_t cenc_crc32(const unsigned char *data, size_t size);

void cenc_free(void *pointer);

#endif
