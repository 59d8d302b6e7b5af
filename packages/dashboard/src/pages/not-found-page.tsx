/** A hash that names no page (a mistyped or outdated link). */
export function NotFoundPage({ path }: { path: string }) {
  return (
    <>
      <h1>No such page</h1>
      <p>
        The dashboard has no page at <code>{path}</code>. <a href="#/">Go to the containers</a>.
      </p>
    </>
  );
}
