/**
 * The adapter for coreutils' `cp -a`: copies a directory's contents with owners, modes, times,
 * links and special files as they are (a volume's copy-up of the image's files).
 */
import { runCommand } from './command';

/** Copies everything inside `fromDir` into the existing directory `intoDir`. */
export async function copyTreeContents(fromDir: string, intoDir: string): Promise<void> {
  await runCommand('cp', ['-a', '--', `${fromDir}/.`, `${intoDir}/`]);
}
