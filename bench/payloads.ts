/** The two payloads every path echoes: a small JSON request, and one whose JSON text is 64 KiB. */
export interface Payload {
  name: string;
  data: unknown;
}

function small(): Payload {
  const data = { op: "echo", user: "u-1024", items: [1, 2, 3], text: "" };
  data.text = "x".repeat(100 - JSON.stringify(data).length);
  return { name: "100 B", data };
}

function large(): Payload {
  const data = { op: "echo", blob: "" };
  data.blob = "a1b2c3d4".repeat(8192).slice(0, 64 * 1024 - JSON.stringify(data).length);
  return { name: "64 KiB", data };
}

export const PAYLOADS: readonly Payload[] = [small(), large()];

/** Whether an answer is the payload itself (checked on warm-up answers, not on every one). */
export function isEcho(payload: Payload, answer: unknown): boolean {
  return JSON.stringify(answer) === JSON.stringify(payload.data);
}
