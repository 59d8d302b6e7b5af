/**
 * Runs `follow` until it ends by itself or the user presses Ctrl-C (SIGINT)
 * or the process is told to stop (SIGTERM); either signal calls `stop`
 * (which closes the client, ending every iterator) and makes the command a
 * success — following until interrupted is what `-f`/`-w` are for. An error
 * that the stop itself causes is not reported.
 *
 * @example await untilInterrupted(() => client.close(), async () => { for await (const l of logs) print(l); });
 */
export async function untilInterrupted(stop: () => unknown, follow: () => Promise<void>): Promise<void> {
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void Promise.resolve(stop()).catch(() => {});
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await follow();
  } catch (err) {
    if (!interrupted) throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
