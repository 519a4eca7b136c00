/**
 * The two DnCNN colour models PixTools uses: where the official weights come from, how to check
 * them, and the names of the converted ONNX files. See models/README.md for the model card.
 */
import { fileURLToPath } from 'node:url';

export type ModelKind = 'blind' | 'clip';

export interface CatalogEntry {
  readonly kind: ModelKind;
  /** File name in the authors' repository and in the weights directory. */
  readonly matFile: string;
  readonly sha256: string;
  readonly onnxFile: string;
  readonly description: string;
}

/** The authors' repository (Kai Zhang, cszn/DnCNN); the files live in its `model/` folder. */
export const UPSTREAM_REPO = 'https://github.com/cszn/DnCNN';
export const UPSTREAM_RAW = 'https://raw.githubusercontent.com/cszn/DnCNN/master/model';

export const CATALOG: Readonly<Record<ModelKind, CatalogEntry>> = {
  blind: {
    kind: 'blind',
    matFile: 'GD_Color_Blind.mat',
    sha256: '57db5437a44037e7675a99042fe7b14d3dcdf1c333d3ec665855566e8a59795c',
    onnxFile: 'dncnn_color_blind.onnx',
    description: 'CDnCNN-B: colour, blind Gaussian denoising (sigma 0-55), residual learning',
  },
  clip: {
    kind: 'clip',
    matFile: 'FDnCNN_Clip_color.mat',
    sha256: 'c43585e89fcfe923334e262a533609614d4dba99e3d432eea09a9b5c1fe7d052',
    onnxFile: 'fdncnn_clip_color.onnx',
    description: 'FDnCNN colour with a noise-level map input, trained on clipped 8-bit noise',
  },
};

export const MODEL_KINDS: readonly ModelKind[] = ['blind', 'clip'];

/** Default locations inside the repository (both git-ignored). */
export const DEFAULT_WEIGHTS_DIR = fileURLToPath(new URL('./weights/', import.meta.url));
export const DEFAULT_ONNX_DIR = fileURLToPath(new URL('./onnx/', import.meta.url));

export function upstreamUrl(entry: CatalogEntry): string {
  return `${UPSTREAM_RAW}/${entry.matFile}`;
}
