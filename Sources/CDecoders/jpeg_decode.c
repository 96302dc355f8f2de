// JPEG through libjpeg-turbo, from memory, with libjpeg's longjmp kept inside.
#include "CDecoders.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>
#include <jerror.h>

/// A progressive JPEG may hold any number of scans, each a pass over the
/// whole image: a small file can keep the decoder busy for minutes. Real
/// encoders write at most ~10 scans per component; libjpeg-turbo's own
/// TurboJPEG API stops at 500.
enum { maximum_scans = 500 };

/// Memory libjpeg may hold at once (coefficient buffers of progressive images).
static const long maximum_memory = 1L << 30;

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
    /// The part of the file being read, which every message starts with.
    const char *stage;
} jpeg_errors;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_errors *errors = (jpeg_errors *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(errors->message, CDEC_MESSAGE_SIZE, "%s: %s", errors->stage, text);
    longjmp(errors->jump, 1);
}

/// Warnings that mean pixels were lost (libjpeg fills them with grey and goes
/// on) are errors here; the rest (extraneous bytes before a marker, an
/// unknown JFIF version) leave the image whole and are ignored.
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
        jpeg_on_error(cinfo);
        break;
    default:
        break;
    }
}

static void jpeg_silent(j_common_ptr cinfo) { (void)cinfo; }

static void jpeg_on_progress(j_common_ptr cinfo) {
    j_decompress_ptr decompress = (j_decompress_ptr)cinfo;
    if (decompress->input_scan_number > maximum_scans) {
        jpeg_errors *errors = (jpeg_errors *)cinfo->err;
        snprintf(errors->message, CDEC_MESSAGE_SIZE, "%s: more than %d progressive scans", errors->stage, maximum_scans);
        longjmp(errors->jump, 1);
    }
}

int cdec_decode_jpeg(const unsigned char *data, size_t size, uint64_t max_pixels, cdec_image *out) {
    memset(out, 0, sizeof *out);
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        snprintf(out->message, CDEC_MESSAGE_SIZE, "signature: the file does not start with a JPEG SOI marker (FF D8 FF)");
        return CDEC_CORRUPT;
    }
    struct jpeg_decompress_struct cinfo;
    jpeg_errors errors;
    struct jpeg_progress_mgr progress = {.progress_monitor = jpeg_on_progress};
    cinfo.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = jpeg_on_error;
    errors.base.emit_message = jpeg_on_message;
    errors.base.output_message = jpeg_silent;
    errors.message = out->message;
    errors.stage = "header markers";
    unsigned char *volatile pixels = NULL;
    volatile int status = CDEC_CORRUPT;
    if (setjmp(errors.jump)) {
        free(pixels);
        jpeg_destroy_decompress(&cinfo);
        return status;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.mem->max_memory_to_use = maximum_memory;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if ((uint64_t)cinfo.image_width * cinfo.image_height > max_pixels) {
        snprintf(out->message, CDEC_MESSAGE_SIZE, "header markers: SOF: width %u x height %u is %llu pixels, more than the %llu allowed",
                 cinfo.image_width, cinfo.image_height, (unsigned long long)cinfo.image_width * cinfo.image_height,
                 (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return CDEC_TOO_LARGE;
    }
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        snprintf(out->message, CDEC_MESSAGE_SIZE, "header markers: colour space: CMYK JPEG is not supported; save the image as RGB");
        jpeg_destroy_decompress(&cinfo);
        return CDEC_UNSUPPORTED;
    default:
        cinfo.out_color_space = JCS_RGB;
        break;
    }
    errors.stage = "scan data";
    jpeg_start_decompress(&cinfo);
    uint32_t channels = (uint32_t)cinfo.output_components;
    size_t row_bytes = (size_t)cinfo.output_width * channels;
    pixels = malloc(row_bytes * cinfo.output_height + 1);
    if (pixels == NULL) {
        snprintf(out->message, CDEC_MESSAGE_SIZE, "out of memory for the pixels");
        free(pixels);
        jpeg_destroy_decompress(&cinfo);
        return CDEC_NO_MEMORY;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * row_bytes;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    errors.stage = "end of image";
    jpeg_finish_decompress(&cinfo);
    out->pixels = pixels;
    out->width = cinfo.output_width;
    out->height = cinfo.output_height;
    out->channels = channels;
    jpeg_destroy_decompress(&cinfo);
    return CDEC_OK;
}
