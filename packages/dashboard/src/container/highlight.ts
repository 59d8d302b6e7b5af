/** A piece of a line of output: `match` when it is an occurrence of the search. */
export interface TextPart {
  text: string;
  match: boolean;
}

/**
 * Splits `text` around each occurrence of `query`, ignoring case, for the
 * page to mark the matches as text (`<mark>`), never as HTML. The parts,
 * joined, are `text` unchanged.
 *
 * @example
 *   splitMatches("Error: disk error", "error");
 *   // [{ text: "Error", match: true }, { text: ": disk ", match: false }, { text: "error", match: true }]
 */
export function splitMatches(text: string, query: string): TextPart[] {
  if (query === "") return [{ text, match: false }];
  // Lower case can change a string's length ("İ" becomes two code units): then the indices of one
  // would not fit the other, and the split matches exact case only.
  const folds = text.toLowerCase().length === text.length && query.toLowerCase().length === query.length;
  const haystack = folds ? text.toLowerCase() : text;
  const needle = folds ? query.toLowerCase() : query;
  const parts: TextPart[] = [];
  let from = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    if (at > from) parts.push({ text: text.slice(from, at), match: false });
    parts.push({ text: text.slice(at, at + needle.length), match: true });
    from = at + needle.length;
  }
  if (from < text.length || parts.length === 0) parts.push({ text: text.slice(from), match: false });
  return parts;
}
