/**
 * Identical read requests that arrive in the same turn of the event loop share one answer.
 * Under load (200 clients listing containers) many identical lists land in one I/O batch; each
 * of them would rebuild and re-encode the same body. The shared answer is computed after all of
 * them arrived, so every client still sees state at least as new as its request; the memory is
 * cleared before the loop's next turn, so nothing is ever served stale.
 */
const answers = new Map<string, Promise<unknown>>();
let clearScheduled = false;

export function sameMoment<T>(key: string, compute: () => Promise<T>): Promise<T> {
  let answer = answers.get(key) as Promise<T> | undefined;
  if (!answer) {
    answer = compute();
    answers.set(key, answer);
    if (!clearScheduled) {
      clearScheduled = true;
      setImmediate(() => {
        answers.clear();
        clearScheduled = false;
      });
    }
  }
  return answer;
}
