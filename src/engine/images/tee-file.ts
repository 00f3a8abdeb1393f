/**
 * A pass-through stream that also writes everything to a file (a layer kept as it was pulled, a
 * layer compressed for a push): one read of the data serves both. The file is complete once the
 * stream has ended; a write error fails the stream.
 */
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';

export function teeToFile(path: string): Transform {
  const file = createWriteStream(path, { mode: 0o600 });
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (file.write(chunk)) done(null, chunk);
      else file.once('drain', () => done(null, chunk));
    },
    flush(done) {
      file.end(() => done());
    },
  });
  file.on('error', (err) => tee.destroy(err));
  tee.once('close', () => {
    if (!file.writableFinished) file.destroy();
  });
  return tee;
}
