#!/usr/bin/env node
// `pixtools` entry point: registers tsx so the TypeScript CLI runs as-is (the same runtime as the services).
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
