package dev.berth.network.domain;

import dev.berth.events.DomainException;

/**
 * An IPv4 block such as {@code 172.18.0.0/16}, always held in canonical form (host bits cleared).
 *
 * @param base   the network address as an unsigned 32-bit value
 * @param prefix the prefix length, 0..32
 */
public record Cidr(long base, int prefix) {

    public Cidr {
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("prefix " + prefix);
        }
        base = base & mask(prefix);
    }

    /**
     * @throws DomainException 400 {@code invalid CIDR address: x} for anything that is not an IPv4 CIDR
     */
    public static Cidr parse(String text) {
        if (text != null) {
            int slash = text.indexOf('/');
            if (slash > 0) {
                try {
                    int prefix = Integer.parseInt(text.substring(slash + 1));
                    Long address = parseAddress(text.substring(0, slash));
                    if (address != null && prefix >= 0 && prefix <= 32) {
                        return new Cidr(address, prefix);
                    }
                } catch (NumberFormatException ignored) {
                    // reported below
                }
            }
        }
        throw DomainException.badRequest("invalid CIDR address: " + text);
    }

    /** An IPv4 address as an unsigned 32-bit value, or null when the text is not one. */
    public static Long parseAddress(String text) {
        if (text == null) {
            return null;
        }
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        long value = 0;
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
                return null;
            }
            int octet = Integer.parseInt(part);
            if (octet > 255) {
                return null;
            }
            value = (value << 8) | octet;
        }
        return value;
    }

    public static String format(long address) {
        return ((address >> 24) & 255) + "." + ((address >> 16) & 255) + "." + ((address >> 8) & 255) + "." + (address & 255);
    }

    private static long mask(int prefix) {
        return prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
    }

    public long size() {
        return 1L << (32 - prefix);
    }

    public long last() {
        return base + size() - 1;
    }

    public boolean contains(long address) {
        return address >= base && address <= last();
    }

    public boolean overlaps(Cidr other) {
        return base <= other.last() && other.base <= last();
    }

    /** The address Docker picks as gateway when none is given: the first host address. */
    public long firstHost() {
        return prefix >= 31 ? base : base + 1;
    }

    @Override
    public String toString() {
        return format(base) + "/" + prefix;
    }
}
