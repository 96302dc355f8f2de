// Raw deflate (zip entries) through zlib.
#include "CDecoders.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

int cdec_inflate_raw(const unsigned char *in, size_t in_size, unsigned char *out, size_t out_size,
                     char *message, size_t message_size) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    // Negative window bits: a bare deflate stream, no zlib header or checksum.
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) {
        snprintf(message, message_size, "cannot start zlib's inflate");
        return CDEC_NO_MEMORY;
    }
    // zlib counts in uInt; feed and drain in pieces so sizes past 4 GiB work.
    size_t consumed = 0, produced = 0;
    int result = Z_OK;
    unsigned char spare;
    while (result == Z_OK) {
        size_t in_chunk = in_size - consumed < UINT_MAX ? in_size - consumed : UINT_MAX;
        size_t out_chunk = out_size - produced < UINT_MAX ? out_size - produced : UINT_MAX;
        stream.next_in = (unsigned char *)in + consumed;
        stream.avail_in = (uInt)in_chunk;
        // With the output full, inflate into one spare byte: if the stream
        // has more to give, it inflates to more than the directory claims.
        stream.next_out = out_chunk > 0 ? out + produced : &spare;
        stream.avail_out = out_chunk > 0 ? (uInt)out_chunk : 1;
        result = inflate(&stream, Z_NO_FLUSH);
        consumed += in_chunk - stream.avail_in;
        size_t written = (out_chunk > 0 ? out_chunk : 1) - stream.avail_out;
        if (out_chunk == 0 && written > 0) {
            inflateEnd(&stream);
            snprintf(message, message_size, "inflates to more than the %zu bytes the zip directory claims", out_size);
            return CDEC_CORRUPT;
        }
        produced += written;
        if (result == Z_BUF_ERROR && consumed == in_size) {
            inflateEnd(&stream);
            snprintf(message, message_size, "truncated after %zu of %zu expected bytes", produced, out_size);
            return CDEC_CORRUPT;
        }
        if (result == Z_BUF_ERROR) result = Z_OK;  // no progress this round only because a chunk ran out
    }
    const char *reason = stream.msg;
    inflateEnd(&stream);
    if (result != Z_STREAM_END) {
        snprintf(message, message_size, "%s", reason ? reason : "corrupt data");
        return result == Z_MEM_ERROR ? CDEC_NO_MEMORY : CDEC_CORRUPT;
    }
    if (produced != out_size) {
        snprintf(message, message_size, "inflates to %zu bytes, the zip directory claims %zu", produced, out_size);
        return CDEC_CORRUPT;
    }
    return CDEC_OK;
}

uint32_t cdec_crc32(const unsigned char *data, size_t size) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (size > 0) {
        uInt chunk = size < UINT_MAX ? (uInt)size : UINT_MAX;
        crc = crc32(crc, data, chunk);
        data += chunk;
        size -= chunk;
    }
    return (uint32_t)crc;
}
