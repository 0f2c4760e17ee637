package dev.berth.node.snapshot;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A streaming reader of the tar formats image layers use: ustar, GNU (long names 'L'/'K', base-256 numbers) and
 * POSIX PAX ('x' and 'g' headers). Written here rather than taken from a library because PAX values, in particular
 * {@code SCHILY.xattr.*} (e.g. the binary {@code security.capability}), must be kept as raw bytes, not decoded.
 *
 * <p>Sparse files are refused. Errors are {@link TarFormatException}s naming the entry and the defect.
 */
final class TarReader {
    static final int BLOCK = 512;

    /** What a header says. {@code xattrs} maps attribute names to raw values. */
    record Entry(String name, char type, int mode, int uid, int gid, long size, long mtimeSec, long mtimeNsec,
                 String linkName, int devMajor, int devMinor, Map<String, byte[]> xattrs) {
        boolean isDir() {
            return type == '5';
        }

        boolean isRegular() {
            return type == '0' || type == '\0' || type == '7';
        }
    }

    /** The archive does not follow the tar format. */
    static final class TarFormatException extends IOException {
        TarFormatException(String message) {
            super(message);
        }
    }

    private final InputStream in;
    private final byte[] header = new byte[BLOCK];
    private long remaining;
    private long padding;
    private String current = "";
    private boolean ended;

    TarReader(InputStream in) {
        this.in = in;
    }

    /** The next entry, or null at the end of the archive; skips what is left of the previous entry's data. */
    Entry next() throws IOException {
        if (ended) {
            return null;
        }
        skipRest();
        Map<String, byte[]> pax = new LinkedHashMap<>();
        String longName = null;
        String longLink = null;
        while (true) {
            if (!readBlock(header, true)) {
                ended = true;
                return null;
            }
            if (allZero(header)) {
                // End of archive: a zero block (the second one is not required by every writer).
                ended = true;
                return null;
            }
            verifyChecksum();
            char type = (char) (header[156] & 0xff);
            long size = number(header, 124, 12, "size");
            if (size < 0) {
                throw new TarFormatException("negative size in header of " + rawName());
            }
            switch (type) {
                case 'x' -> pax.putAll(parsePax(readData(size, "PAX header")));
                // Ignored, as Docker does: in practice only "comment" (git archive), and a global path or owner
                // would silently rewrite every entry after it.
                case 'g' -> parsePax(readData(size, "PAX global header"));
                case 'L' -> longName = cString(readData(size, "GNU long name"), 0, (int) size);
                case 'K' -> longLink = cString(readData(size, "GNU long link name"), 0, (int) size);
                case 'S' -> throw new TarFormatException("sparse file " + rawName() + " is not supported in a layer");
                default -> {
                    return entry(type, size, pax, longName, longLink);
                }
            }
        }
    }

    /** Reads the current entry's data. Returns -1 at its end. */
    int read(byte[] buf, int off, int len) throws IOException {
        if (remaining <= 0) {
            return -1;
        }
        int n = in.read(buf, off, (int) Math.min(len, remaining));
        if (n < 0) {
            throw new EOFException("unexpected end of archive in the data of \"" + current + "\"");
        }
        remaining -= n;
        return n;
    }

    private Entry entry(char type, long size, Map<String, byte[]> pax, String longName, String longLink) throws IOException {
        boolean ustar = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a'
                && header[261] == 'r' && header[262] == 0;
        String name = cString(header, 0, 100);
        if (ustar) {
            String prefix = cString(header, 345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
        }
        if (longName != null) {
            name = longName;
        }
        String linkName = cString(header, 157, 100);
        if (longLink != null) {
            linkName = longLink;
        }
        int mode = (int) number(header, 100, 8, "mode");
        long uid = number(header, 108, 8, "uid");
        long gid = number(header, 116, 8, "gid");
        long mtime = number(header, 136, 12, "mtime");
        long mtimeNsec = 0;
        int devMajor = (int) number(header, 329, 8, "devmajor");
        int devMinor = (int) number(header, 337, 8, "devminor");
        Map<String, byte[]> xattrs = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> r : pax.entrySet()) {
            String key = r.getKey();
            String value = new String(r.getValue(), StandardCharsets.UTF_8);
            try {
                switch (key) {
                    case "path" -> name = value;
                    case "linkpath" -> linkName = value;
                    case "size" -> size = Long.parseLong(value);
                    case "uid" -> uid = Long.parseLong(value);
                    case "gid" -> gid = Long.parseLong(value);
                    case "mtime" -> {
                        long[] t = paxTime(value);
                        mtime = t[0];
                        mtimeNsec = t[1];
                    }
                    case "SCHILY.devmajor" -> devMajor = Integer.parseInt(value);
                    case "SCHILY.devminor" -> devMinor = Integer.parseInt(value);
                    default -> {
                        if (key.startsWith("SCHILY.xattr.")) {
                            xattrs.put(key.substring("SCHILY.xattr.".length()), r.getValue());
                        } else if (key.startsWith("GNU.sparse.")) {
                            throw new TarFormatException("sparse file " + name + " is not supported in a layer");
                        }
                    }
                }
            } catch (NumberFormatException e) {
                throw new TarFormatException("invalid PAX record " + key + "=" + value + " for " + name);
            }
        }
        if (uid < 0 || uid > 0xffffffffL || gid < 0 || gid > 0xffffffffL) {
            throw new TarFormatException("owner " + uid + ":" + gid + " of " + name + " is out of range");
        }
        if (name.isEmpty()) {
            throw new TarFormatException("entry without a name");
        }
        // Hard links, symlinks, devices, fifos and directories carry no data even if a size is written (as Go's
        // archive/tar reads them); other types' data is skipped.
        long dataSize = "123456".indexOf(type) >= 0 ? 0 : size;
        remaining = dataSize;
        padding = (BLOCK - dataSize % BLOCK) % BLOCK;
        current = name;
        return new Entry(name, type, mode & 07777, (int) uid, (int) gid, dataSize, mtime, mtimeNsec,
                linkName, devMajor, devMinor, xattrs);
    }

    private void skipRest() throws IOException {
        long n = remaining + padding;
        remaining = 0;
        padding = 0;
        skipFully(n);
    }

    private void skipFully(long n) throws IOException {
        byte[] buf = new byte[8192];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw new EOFException("unexpected end of archive in the data of \"" + current + "\"");
            }
            n -= r;
        }
    }

    private byte[] readData(long size, String what) throws IOException {
        if (size > (1 << 20)) {
            throw new TarFormatException(what + " of " + size + " bytes is too large");
        }
        byte[] data = new byte[(int) size];
        readFully(data, what);
        skipFully((BLOCK - size % BLOCK) % BLOCK);
        return data;
    }

    private boolean readBlock(byte[] block, boolean eofAllowed) throws IOException {
        int off = 0;
        while (off < block.length) {
            int n = in.read(block, off, block.length - off);
            if (n < 0) {
                if (off == 0 && eofAllowed) {
                    return false;
                }
                throw new EOFException("unexpected end of archive in a header");
            }
            off += n;
        }
        return true;
    }

    private void readFully(byte[] data, String what) throws IOException {
        int off = 0;
        while (off < data.length) {
            int n = in.read(data, off, data.length - off);
            if (n < 0) {
                throw new EOFException("unexpected end of archive in " + what);
            }
            off += n;
        }
    }

    private void verifyChecksum() throws TarFormatException {
        long expected = number(header, 148, 8, "checksum");
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = (i >= 148 && i < 156) ? ' ' : header[i];
            unsigned += b & 0xff;
            signed += (byte) b;
        }
        if (expected != unsigned && expected != signed) {
            throw new TarFormatException("invalid tar header checksum (entry " + rawName() + ")");
        }
    }

    private String rawName() {
        return "\"" + cString(header, 0, 100) + "\"";
    }

    private static Map<String, byte[]> parsePax(byte[] data) throws TarFormatException {
        Map<String, byte[]> records = new LinkedHashMap<>();
        int pos = 0;
        while (pos < data.length) {
            if (data[pos] == 0) {
                break;
            }
            int space = pos;
            while (space < data.length && data[space] != ' ') {
                space++;
            }
            int len;
            try {
                len = Integer.parseInt(new String(data, pos, space - pos, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new TarFormatException("invalid PAX record length at offset " + pos);
            }
            int end = pos + len;
            if (len <= 0 || space >= data.length || end > data.length || data[end - 1] != '\n') {
                throw new TarFormatException("invalid PAX record at offset " + pos);
            }
            int eq = space + 1;
            while (eq < end - 1 && data[eq] != '=') {
                eq++;
            }
            if (eq >= end - 1 && data[eq] != '=') {
                throw new TarFormatException("PAX record without '=' at offset " + pos);
            }
            String key = new String(data, space + 1, eq - space - 1, StandardCharsets.UTF_8);
            records.put(key, Arrays.copyOfRange(data, eq + 1, end - 1));
            pos = end;
        }
        return records;
    }

    private static long[] paxTime(String value) {
        int dot = value.indexOf('.');
        if (dot < 0) {
            return new long[]{Long.parseLong(value), 0};
        }
        long sec = Long.parseLong(value.substring(0, dot));
        String frac = (value.substring(dot + 1) + "000000000").substring(0, 9);
        long nsec = Long.parseLong(frac);
        if (value.startsWith("-") && nsec > 0) {
            // -1.5 means 1.5 s before the epoch: -2 s + 0.5 s
            sec -= 1;
            nsec = 1_000_000_000L - nsec;
        }
        return new long[]{sec, nsec};
    }

    /** An octal field (NUL or space terminated), or GNU base-256 when the high bit of the first byte is set. */
    private long number(byte[] b, int off, int len, String field) throws TarFormatException {
        if ((b[off] & 0x80) != 0) {
            long v = b[off] & 0x3f;
            boolean negative = (b[off] & 0x40) != 0;
            for (int i = 1; i < len; i++) {
                if (v > (Long.MAX_VALUE >> 8)) {
                    throw new TarFormatException("base-256 " + field + " of " + rawName() + " overflows");
                }
                v = (v << 8) | (b[off + i] & 0xff);
            }
            return negative ? v - (1L << (8 * len - 2)) : v;
        }
        long v = 0;
        int i = off;
        int end = off + len;
        while (i < end && (b[i] == ' ' || b[i] == 0)) {
            i++;
        }
        boolean any = false;
        for (; i < end; i++) {
            byte c = b[i];
            if (c == ' ' || c == 0) {
                break;
            }
            if (c < '0' || c > '7') {
                throw new TarFormatException("invalid octal " + field + " field in tar header (entry " + rawName() + ")");
            }
            v = (v << 3) + (c - '0');
            any = true;
        }
        return any ? v : 0;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
