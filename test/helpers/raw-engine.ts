/** A raw Engine.IO v4 WebSocket (no Socket.IO client): the frames are exactly what the test sends. */
export async function rawSocket(
  url: string,
  sid?: string,
): Promise<{ ws: WebSocket; messages: string[]; closed: Promise<number> }> {
  const query = `EIO=4&transport=websocket${sid ? `&sid=${sid}` : ""}`;
  const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?${query}`);
  const messages: string[] = [];
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("the raw websocket did not open")), { once: true });
  });
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", () => resolve(Date.now())));
  ws.addEventListener("message", (e) => {
    const text = String(e.data);
    // Engine.IO ping → pong, so that only berth's own limits can close the connection.
    if (text === "2") ws.send("3");
    messages.push(text);
  });
  await opened;
  return { ws, messages, closed };
}
