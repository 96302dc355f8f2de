#include "CImageEncode.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <zlib.h>

typedef struct {
    unsigned char *data;
    size_t size, capacity;
} buffer;

static void png_write_memory(png_structp png, png_bytep bytes, size_t count) {
    buffer *output = png_get_io_ptr(png);
    if (output->size + count > output->capacity) {
        size_t capacity = 2 * (output->size + count);
        unsigned char *grown = realloc(output->data, capacity);
        if (grown == NULL) png_error(png, "out of memory");
        output->data = grown;
        output->capacity = capacity;
    }
    memcpy(output->data + output->size, bytes, count);
    output->size += count;
}

static void png_flush_memory(png_structp png) { (void)png; }

size_t cenc_png(const unsigned char *pixels, uint32_t width, uint32_t height, uint32_t channels, int kind,
                int interlaced, unsigned char **out) {
    *out = NULL;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    buffer output = {0};
    int depth = kind == CENC_PNG_SIXTEEN ? 16 : 8;
    int samples = (int)channels + (kind == CENC_PNG_ALPHA ? 1 : 0);
    size_t row_bytes = (size_t)width * samples * (depth / 8);
    unsigned char *volatile row = malloc(row_bytes + 1);
    unsigned char *volatile indices = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(row);
        free(indices);
        free(output.data);
        png_destroy_write_struct(&png, &info);
        return 0;
    }
    png_set_write_fn(png, &output, png_write_memory, png_flush_memory);
    int colour = channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
    if (kind == CENC_PNG_ALPHA) colour = channels == 1 ? PNG_COLOR_TYPE_GRAY_ALPHA : PNG_COLOR_TYPE_RGB_ALPHA;
    if (kind == CENC_PNG_PALETTE) colour = PNG_COLOR_TYPE_PALETTE;
    png_set_IHDR(png, info, width, height, depth, colour, interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color palette[256];
    int colours = 0;
    if (kind == CENC_PNG_PALETTE) {
        indices = malloc((size_t)width * height + 1);
        for (size_t p = 0; p < (size_t)width * height; p++) {
            const unsigned char *c = pixels + p * channels;
            int found = -1;
            for (int i = 0; i < colours && found < 0; i++) {
                if (palette[i].red == c[0] && palette[i].green == c[channels == 3 ? 1 : 0]
                    && palette[i].blue == c[channels == 3 ? 2 : 0]) found = i;
            }
            if (found < 0) {
                if (colours == 256) png_error(png, "more than 256 colours");
                palette[colours] = (png_color){c[0], c[channels == 3 ? 1 : 0], c[channels == 3 ? 2 : 0]};
                found = colours++;
            }
            indices[p] = (unsigned char)found;
        }
        png_set_PLTE(png, info, palette, colours);
    }
    png_write_info(png, info);
    if (depth == 16) png_set_swap(png);  // rows below are little-endian; PNG stores big-endian
    int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++) {
        for (uint32_t y = 0; y < height; y++) {
            for (uint32_t x = 0; x < width; x++) {
                const unsigned char *source = pixels + ((size_t)y * width + x) * channels;
                if (kind == CENC_PNG_PALETTE) {
                    row[x] = indices[(size_t)y * width + x];
                } else if (kind == CENC_PNG_SIXTEEN) {
                    for (uint32_t c = 0; c < channels; c++) {
                        unsigned value = source[c] * 257u;
                        row[(x * channels + c) * 2] = value & 0xFF;
                        row[(x * channels + c) * 2 + 1] = value >> 8;
                    }
                } else {
                    for (uint32_t c = 0; c < channels; c++) row[x * samples + c] = source[c];
                    if (kind == CENC_PNG_ALPHA) row[x * samples + channels] = 255 - source[0];
                }
            }
            png_write_row(png, row);
        }
    }
    png_write_end(png, NULL);
    free(indices);
    free(row);
    png_destroy_write_struct(&png, &info);
    *out = output.data;
    return output.size;
}

size_t cenc_jpeg(const unsigned char *pixels, uint32_t width, uint32_t height, uint32_t channels, int quality,
                 int progressive, unsigned char **out) {
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr errors;
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    unsigned char *data = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &data, &size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = (int)channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * width * channels);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = data;
    return size;
}

size_t cenc_deflate_raw(const unsigned char *data, size_t size, int level, unsigned char **out) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    *out = NULL;
    if (deflateInit2(&stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    size_t capacity = deflateBound(&stream, (uLong)size) + 16;
    unsigned char *buffer = malloc(capacity);
    stream.next_in = (unsigned char *)data;
    stream.avail_in = (uInt)size;
    stream.next_out = buffer;
    stream.avail_out = (uInt)capacity;
    int result = deflate(&stream, Z_FINISH);
    size_t produced = capacity - stream.avail_out;
    deflateEnd(&stream);
    if (result != Z_STREAM_END) {
        free(buffer);
        return 0;
    }
    *out = buffer;
    return produced;
}

uint32_t cenc_crc32(const unsigned char *data, size_t size) { return (uint32_t)crc32(0L, data, (uInt)size); }

void cenc_free(void *pointer) { free(pointer); }
