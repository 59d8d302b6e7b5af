import { useEffect, useState } from "preact/hooks";

/** The time now, renewed every `everyMs`: for figures that age on screen (uptime). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
