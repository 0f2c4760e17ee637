package dev.berth.eventstore;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/** Conversions of native-query columns, whose Java types depend on the driver's mapping. */
final class Rows {
    private Rows() {
    }

    static long toLong(Object o) {
        return ((Number) o).longValue();
    }

    static UUID toUuid(Object o) {
        if (o == null) {
            return null;
        }
        return o instanceof UUID u ? u : UUID.fromString(o.toString());
    }

    static String toText(Object o) {
        return o == null ? null : o.toString();
    }

    static Instant toInstant(Object o) {
        if (o == null) {
            return null;
        }
        if (o instanceof Instant i) {
            return i;
        }
        if (o instanceof OffsetDateTime odt) {
            return odt.toInstant();
        }
        if (o instanceof Timestamp ts) {
            return ts.toInstant();
        }
        if (o instanceof LocalDateTime ldt) {
            return ldt.toInstant(ZoneOffset.UTC);
        }
        if (o instanceof java.time.ZonedDateTime zdt) {
            return zdt.toInstant();
        }
        throw new IllegalStateException("unexpected time column type " + o.getClass().getName());
    }

    /** Whether a failure is PostgreSQL's unique violation (23505) on the named constraint. */
    static boolean isUniqueViolation(Throwable failure, String constraint) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.vertx.pgclient.PgException pg && "23505".equals(pg.getSqlState())) {
                return constraint.equals(pg.getConstraint()) || String.valueOf(pg.getMessage()).contains(constraint);
            }
            if (t instanceof org.hibernate.exception.ConstraintViolationException cve) {
                return constraint.equals(cve.getConstraintName())
                        || String.valueOf(cve.getMessage()).contains("\"" + constraint + "\"");
            }
            if (t instanceof java.sql.SQLException sql && "23505".equals(sql.getSQLState())) {
                return String.valueOf(sql.getMessage()).contains(constraint);
            }
        }
        return false;
    }
}
