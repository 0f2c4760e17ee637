package dev.berth.node.network;

/**
 * An IPv4 network in CIDR form, e.g. {@code 172.17.0.0/16}. Addresses are held as unsigned 32-bit values in a long.
 */
public record Subnet(long network, int prefixLength) {

    public Subnet {
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("invalid prefix length /" + prefixLength);
        }
        network = network & mask(prefixLength);
    }

    /** Parses {@code a.b.c.d/len} (a bare address is a /32); the host bits are cleared. */
    public static Subnet parse(String cidr) {
        String s = cidr.trim();
        int slash = s.indexOf('/');
        if (slash < 0) {
            return new Subnet(parseAddress(s), 32);
        }
        int len;
        try {
            len = Integer.parseInt(s.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid CIDR \"" + cidr + "\"");
        }
        return new Subnet(parseAddress(s.substring(0, slash)), len);
    }

    /** Parses a dotted-quad IPv4 address into an unsigned value. */
    public static long parseAddress(String address) {
        String[] parts = address.trim().split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("invalid IPv4 address \"" + address + "\"");
        }
        long value = 0;
        for (String p : parts) {
            int octet;
            try {
                octet = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid IPv4 address \"" + address + "\"");
            }
            if (octet < 0 || octet > 255 || p.isEmpty() || p.length() > 3) {
                throw new IllegalArgumentException("invalid IPv4 address \"" + address + "\"");
            }
            value = (value << 8) | octet;
        }
        return value;
    }

    public static String format(long address) {
        return ((address >>> 24) & 0xff) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "."
                + (address & 0xff);
    }

    static long mask(int prefixLength) {
        return prefixLength == 0 ? 0 : (0xffffffffL << (32 - prefixLength)) & 0xffffffffL;
    }

    public long size() {
        return 1L << (32 - prefixLength);
    }

    /** The n-th address of the network (0 is the network address itself). */
    public long address(long n) {
        if (n < 0 || n >= size()) {
            throw new IllegalArgumentException("offset " + n + " outside " + this);
        }
        return network + n;
    }

    public boolean contains(long address) {
        return (address & mask(prefixLength)) == network;
    }

    public boolean overlaps(Subnet other) {
        int shorter = Math.min(prefixLength, other.prefixLength);
        return (network & mask(shorter)) == (other.network & mask(shorter));
    }

    /** Docker's MAC for an address: 02:42 followed by the four octets. */
    public static String macFor(long address) {
        return String.format("02:42:%02x:%02x:%02x:%02x", (address >>> 24) & 0xff, (address >>> 16) & 0xff,
                (address >>> 8) & 0xff, address & 0xff);
    }

    @Override
    public String toString() {
        return format(network) + "/" + prefixLength;
    }
}
