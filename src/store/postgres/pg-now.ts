/** The database's clock in ms, as SQL: one clock for every API server, whichever one writes. */
export const NOW_MS = "floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
