/**
 * Where the CRI tools (crictl, critest, kubelet, cri-dockerd; see ../shared/tools/cri/README.md)
 * are: BERTH_CRI_TOOLS, else `shared/tools/cri` beside the repository, else the workplace's
 * /work/shared (a clean clone elsewhere, as CI makes, still finds them). Tests that need them
 * skip with a reason when none has them.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Compiled to dist/test/integration/cri/, so the repository root is four levels up. */
const REPO = resolve(__dirname, '..', '..', '..', '..');
const CANDIDATES = [process.env.BERTH_CRI_TOOLS, join(REPO, '..', 'shared', 'tools', 'cri'), '/work/shared/tools/cri'].filter((d): d is string => !!d);

export const CRI_TOOLS = CANDIDATES.find((d) => existsSync(join(d, 'crictl'))) ?? CANDIDATES[0];
