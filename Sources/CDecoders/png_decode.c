// PNG through libpng, from memory, with libpng's longjmp kept inside.
#include "CDecoders.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// The bytes being read and where libpng's errors go.
typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
    char *message;
    /// The part of the file being read, which every message starts with.
    const char *stage;
    jmp_buf jump;
} png_source;

static void png_on_error(png_structp png, png_const_charp text) {
    png_source *source = png_get_error_ptr(png);
    snprintf(source->message, CDEC_MESSAGE_SIZE, "%s: %s", source->stage, text);
    longjmp(source->jump, 1);
}

// Warnings (a bad ancillary chunk's CRC, an odd colour profile) leave the
// pixels intact; libpng already discards the chunk.
static void png_on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static void png_read_memory(png_structp png, png_bytep into, size_t count) {
    png_source *source = png_get_io_ptr(png);
    if (count > source->size - source->offset) {
        char text[96];
        snprintf(text, sizeof text, "truncated: the file ends at byte %zu, inside a chunk", source->size);
        png_error(png, text);
    }
    memcpy(into, source->data + source->offset, count);
    source->offset += count;
}

int cdec_decode_png(const unsigned char *data, size_t size, uint64_t max_pixels, cdec_image *out) {
    memset(out, 0, sizeof *out);
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(out->message, CDEC_MESSAGE_SIZE, "signature: the first 8 bytes are not a PNG signature");
        return CDEC_CORRUPT;
    }
    png_source source = {.data = data, .size = size, .offset = 0, .message = out->message,
                         .stage = "header chunks"};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_on_error, png_on_warning);
    if (png == NULL) {
        snprintf(out->message, CDEC_MESSAGE_SIZE, "out of memory creating the PNG reader");
        return CDEC_NO_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    // Changed between setjmp and a longjmp, so volatile: their values after
    // the jump must be the last ones stored.
    unsigned char *volatile pixels = NULL;
    volatile int status = CDEC_CORRUPT;
    if (info == NULL || setjmp(source.jump)) {
        if (info == NULL) {
            snprintf(out->message, CDEC_MESSAGE_SIZE, "out of memory creating the PNG reader");
            status = CDEC_NO_MEMORY;
        }
        free(pixels);
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        return status;
    }
    png_set_read_fn(png, &source, png_read_memory);
    png_read_info(png, info);
    uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if ((uint64_t)width * height > max_pixels) {
        snprintf(out->message, CDEC_MESSAGE_SIZE,
                 "header chunks: IHDR: width %u x height %u is %llu pixels, more than the %llu allowed",
                 width, height, (unsigned long long)width * height, (unsigned long long)max_pixels);
        status = CDEC_TOO_LARGE;
        png_destroy_read_struct(&png, &info, NULL);
        return status;
    }
    // Palette and low bit depths to 8-bit samples, 16 bits to their high byte, no alpha.
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    uint32_t channels = png_get_channels(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if ((channels != 1 && channels != 3) || row_bytes != (size_t)width * channels) {
        char text[96];
        snprintf(text, sizeof text, "IHDR: colour type %d with %u channels after expansion is not grey or RGB",
                 png_get_color_type(png, info), channels);
        png_error(png, text);
    }
    source.stage = "image data";
    pixels = malloc(row_bytes * height + 1);
    if (pixels == NULL) {
        status = CDEC_NO_MEMORY;
        png_error(png, "out of memory for the pixels");
    }
    // Row by row (every pass of an interlaced image revisits every row): no
    // array of row pointers, which for a 1-pixel-wide image would be 8x the pixels.
    for (int pass = 0; pass < passes; pass++) {
        for (uint32_t y = 0; y < height; y++) png_read_row(png, pixels + (size_t)y * row_bytes, NULL);
    }
    source.stage = "chunks after the image data";
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    out->pixels = pixels;
    out->width = width;
    out->height = height;
    out->channels = channels;
    return CDEC_OK;
}

void cdec_free(void *pointer) { free(pointer); }
