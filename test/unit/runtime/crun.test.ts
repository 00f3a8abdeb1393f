import { runtimeConformance } from './conformance';

// On hybrid cgroup hosts this runs crun through the wrapper in <exec-root>/runtimes/crun.
runtimeConformance('crun');
