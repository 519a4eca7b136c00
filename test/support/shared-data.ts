import { existsSync } from 'node:fs';
import path from 'node:path';

// The DnCNN weights and the CBSD68 images live outside the product, beside the checkout (../shared).
// Tests and benchmarks reach them only through these variables, defaulting to that sibling folder.
function dir(variable: string, fallback: string): string {
  const value = process.env[variable] ?? path.resolve(fallback);
  if (!existsSync(value)) {
    throw new Error(`${variable} must point at ${fallback} (not found at ${value})`);
  }
  return value;
}

export const weightsDir = () => dir('DNCNN_WEIGHTS_DIR', '../shared/models/dncnn');
export const ffdnetWeightsDir = () => dir('FFDNET_WEIGHTS_DIR', '../shared/models/ffdnet');
export const cbsd68Dir = () => dir('CBSD68_DIR', '../shared/datasets/CBSD68');
