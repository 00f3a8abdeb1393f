import { runtimeConformance } from './conformance';

runtimeConformance('runc');
