package dev.berth.node.snapshot;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a tar as Docker's layers are: ustar headers, with a PAX header in front when a name, owner or size does
 * not fit or an entry has xattrs ({@code SCHILY.xattr.*}, raw bytes kept).
 */
final class TarWriter {
    private static final int BLOCK = TarReader.BLOCK;
    private final OutputStream out;
    private long entryLeft;
    private long entryPad;

    TarWriter(OutputStream out) {
        this.out = out;
    }

    /**
     * An entry header; for a type with data (regular files) the caller then writes exactly {@code size} bytes with
     * {@link #data}.
     */
    void header(String name, char type, int mode, int uid, int gid, long size, long mtimeSec, String linkName,
                int devMajor, int devMinor, Map<String, byte[]> xattrs) throws IOException {
        Map<String, byte[]> pax = new LinkedHashMap<>();
        String[] split = splitName(name);
        if (split == null) {
            pax.put("path", name.getBytes(StandardCharsets.UTF_8));
            split = new String[]{"", ascii(name, 100)};
        }
        if (linkName != null && (!isAscii(linkName) || linkName.length() > 100)) {
            pax.put("linkpath", linkName.getBytes(StandardCharsets.UTF_8));
        }
        if (Integer.toUnsignedLong(uid) > 07777777) {
            pax.put("uid", Long.toString(Integer.toUnsignedLong(uid)).getBytes(StandardCharsets.US_ASCII));
        }
        if (Integer.toUnsignedLong(gid) > 07777777) {
            pax.put("gid", Long.toString(Integer.toUnsignedLong(gid)).getBytes(StandardCharsets.US_ASCII));
        }
        if (size > 077777777777L) {
            pax.put("size", Long.toString(size).getBytes(StandardCharsets.US_ASCII));
        }
        if (mtimeSec < 0 || mtimeSec > 077777777777L) {
            pax.put("mtime", Long.toString(mtimeSec).getBytes(StandardCharsets.US_ASCII));
        }
        for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
            pax.put("SCHILY.xattr." + x.getKey(), x.getValue());
        }
        if (!pax.isEmpty()) {
            byte[] records = paxRecords(pax);
            String paxName = ascii("PaxHeaders.0/" + baseName(name), 100);
            out.write(block("", paxName, 'x', 0644, 0, 0, records.length, 0, "", 0, 0));
            out.write(records);
            pad(records.length);
        }
        long mt = Math.max(0, Math.min(mtimeSec, 077777777777L));
        out.write(block(split[0], split[1], type, mode, (int) Math.min(Integer.toUnsignedLong(uid), 07777777),
                (int) Math.min(Integer.toUnsignedLong(gid), 07777777), Math.min(size, 077777777777L), mt,
                linkName == null ? "" : ascii(linkName, 100), devMajor, devMinor));
        entryLeft = "123456".indexOf(type) >= 0 ? 0 : size;
        entryPad = (BLOCK - entryLeft % BLOCK) % BLOCK;
    }

    /** Copies the current regular file's content; the stream must hold exactly the size given in the header. */
    void data(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        while (entryLeft > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, entryLeft));
            if (n < 0) {
                throw new IOException("file shrank while it was being archived");
            }
            out.write(buf, 0, n);
            entryLeft -= n;
        }
        out.write(new byte[(int) entryPad]);
        entryPad = 0;
    }

    /** Writes the end-of-archive marker (two zero blocks). */
    void finish() throws IOException {
        out.write(new byte[2 * BLOCK]);
        out.flush();
    }

    private void pad(long len) throws IOException {
        out.write(new byte[(int) ((BLOCK - len % BLOCK) % BLOCK)]);
    }

    private static byte[] paxRecords(Map<String, byte[]> pax) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> r : pax.entrySet()) {
            byte[] key = r.getKey().getBytes(StandardCharsets.UTF_8);
            int body = 1 + key.length + 1 + r.getValue().length + 1; // " key=value\n"
            int len = body + Integer.toString(body).length();
            if (Integer.toString(len).length() != Integer.toString(body).length()) {
                len = body + Integer.toString(len).length();
            }
            b.writeBytes((len + " ").getBytes(StandardCharsets.US_ASCII));
            b.writeBytes(key);
            b.write('=');
            b.writeBytes(r.getValue());
            b.write('\n');
        }
        return b.toByteArray();
    }

    /** {prefix, name} for a ustar header, or null when the name needs a PAX path record. */
    private static String[] splitName(String name) {
        if (!isAscii(name)) {
            return null;
        }
        if (name.length() <= 100) {
            return new String[]{"", name};
        }
        for (int i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
            if (i <= 155 && name.length() - i - 1 <= 100 && name.length() - i - 1 > 0) {
                return new String[]{name.substring(0, i), name.substring(i + 1)};
            }
        }
        return null;
    }

    private static byte[] block(String prefix, String name, char type, int mode, int uid, int gid, long size, long mtime,
                                String linkName, int devMajor, int devMinor) {
        byte[] h = new byte[BLOCK];
        put(h, 0, 100, name);
        octal(h, 100, 8, mode & 07777);
        octal(h, 108, 8, uid);
        octal(h, 116, 8, gid);
        octal(h, 124, 12, size);
        octal(h, 136, 12, mtime);
        h[156] = (byte) type;
        put(h, 157, 100, linkName);
        put(h, 257, 6, "ustar\0");
        put(h, 263, 2, "00");
        octal(h, 329, 8, devMajor);
        octal(h, 337, 8, devMinor);
        put(h, 345, 155, prefix);
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte x : h) {
            sum += x & 0xff;
        }
        String s = String.format("%06o", sum);
        put(h, 148, 6, s);
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    private static void octal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        StringBuilder b = new StringBuilder();
        for (int i = s.length(); i < len - 1; i++) {
            b.append('0');
        }
        put(h, off, len, b.append(s).toString());
    }

    private static void put(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, Math.min(len, b.length));
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80 || s.charAt(i) == 0) {
                return false;
            }
        }
        return true;
    }

    private static String ascii(String s, int max) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            b.append(c < 0x80 && c != 0 ? c : '_');
        }
        return b.toString();
    }

    private static String baseName(String name) {
        String n = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        return n.substring(n.lastIndexOf('/') + 1);
    }
}
