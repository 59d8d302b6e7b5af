/** One column of a table: its heading and how to show a row in it. */
export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  /** Right-aligned, for numbers. */
  right?: boolean;
}

/**
 * Rows as docker-style aligned columns: upper-case headings, each column as
 * wide as its widest cell, three spaces between columns, no trailing spaces.
 * Width counts characters, so colour must be added after (or not at all).
 *
 * @example formatTable([{ n: "web" }], [{ header: "NAME", value: (r) => r.n }]) // "NAME\nweb"
 */
export function formatTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((c) => oneLine(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join("   ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}

// A cell with a newline or tab would break the alignment of every row after it.
function oneLine(text: string): string {
  return text.replace(/[\t\r\n]+/g, " ");
}
