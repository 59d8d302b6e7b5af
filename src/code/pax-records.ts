import { archiveError } from "./archive-error.ts";
import { decodeName } from "./tar-header.ts";

/**
 * Parses a pax extended header: records of the form "<length> <key>=<value>\n",
 * where length counts the whole record. Anything malformed refuses the archive,
 * because a reader that guesses would see different names than the one checked.
 */
export function parsePaxRecords(data: Buffer, entry: string): Map<string, string> {
  const records = new Map<string, string>();
  const malformed = () => archiveError("bad-header", entry, "has a malformed pax extended header");
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    // 20 digits is already far beyond any header berth would read.
    if (space === -1 || space - pos > 20) throw malformed();
    const lengthText = data.toString("latin1", pos, space);
    if (!/^[1-9][0-9]*$/.test(lengthText)) throw malformed();
    const end = pos + Number(lengthText);
    if (end > data.length || end <= space + 1 || data[end - 1] !== 0x0a) throw malformed();
    const record = data.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw malformed();
    const key = decodeName(record.subarray(0, equals), entry);
    records.set(key, decodeName(record.subarray(equals + 1), entry));
    pos = end;
  }
  return records;
}
