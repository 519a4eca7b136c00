/**
 * The DnCNN and FFDNet colour models PixTools uses: where the official weights come from, how to check
 * them, and the names of the converted ONNX files. See models/README.md for the model card.
 */
import { fileURLToPath } from 'node:url';

/** `fast` is FFDNet-Clip; `fast-float` (FFDNet trained on unclipped noise) serves the paper protocol. */
export type ModelKind = 'blind' | 'clip' | 'fast' | 'fast-float';
export type ModelFamily = 'dncnn' | 'ffdnet';

export interface CatalogEntry {
  readonly kind: ModelKind;
  readonly family: ModelFamily;
  /** File name in the authors' repository and in the weights directory. */
  readonly matFile: string;
  readonly sha256: string;
  readonly onnxFile: string;
  readonly description: string;
}

/** The authors' repositories (Kai Zhang): cszn/DnCNN `model/` and cszn/FFDNet `models/`. */
export const UPSTREAM_RAW: Readonly<Record<ModelFamily, string>> = {
  dncnn: 'https://raw.githubusercontent.com/cszn/DnCNN/master/model',
  ffdnet: 'https://raw.githubusercontent.com/cszn/FFDNet/master/models',
};

export const CATALOG: Readonly<Record<ModelKind, CatalogEntry>> = {
  blind: {
    kind: 'blind',
    family: 'dncnn',
    matFile: 'GD_Color_Blind.mat',
    sha256: '57db5437a44037e7675a99042fe7b14d3dcdf1c333d3ec665855566e8a59795c',
    onnxFile: 'dncnn_color_blind.onnx',
    description: 'CDnCNN-B: colour, blind Gaussian denoising (sigma 0-55), residual learning',
  },
  clip: {
    kind: 'clip',
    family: 'dncnn',
    matFile: 'FDnCNN_Clip_color.mat',
    sha256: 'c43585e89fcfe923334e262a533609614d4dba99e3d432eea09a9b5c1fe7d052',
    onnxFile: 'fdncnn_clip_color.onnx',
    description: 'FDnCNN colour with a noise-level map input, trained on clipped 8-bit noise',
  },
  fast: {
    kind: 'fast',
    family: 'ffdnet',
    matFile: 'FFDNet_Clip_color.mat',
    sha256: '7966f04fbe529d45181a3a19b51fff7f1939a9fefce8a0b44dc878b3cd6bf6a2',
    onnxFile: 'ffdnet_clip_color.onnx',
    description: 'FFDNet colour (2x2 sub-sampled, noise-level map), trained on clipped 8-bit noise',
  },
  'fast-float': {
    kind: 'fast-float',
    family: 'ffdnet',
    matFile: 'FFDNet_color.mat',
    sha256: 'a4b5a9da21294ab9ba6ed5c6cc459c46dff20c025eb7d3ab82e8e0bb00541793',
    onnxFile: 'ffdnet_color.onnx',
    description: 'FFDNet colour (2x2 sub-sampled, noise-level map), trained on unclipped Gaussian noise',
  },
};

export const MODEL_KINDS: readonly ModelKind[] = ['blind', 'clip', 'fast', 'fast-float'];

/** Receptive-field radius in image pixels and the alignment tiles need (FFDNet works on 2×2 blocks). */
export const GEOMETRY: Readonly<Record<ModelFamily, { readonly margin: number; readonly align: number }>> = {
  dncnn: { margin: 20, align: 1 },
  ffdnet: { margin: 26, align: 2 },
};

/** Default locations inside the repository (both git-ignored). */
export const DEFAULT_WEIGHTS_DIR = fileURLToPath(new URL('./weights/', import.meta.url));
export const DEFAULT_ONNX_DIR = fileURLToPath(new URL('./onnx/', import.meta.url));

export function upstreamUrl(entry: CatalogEntry): string {
  return `${UPSTREAM_RAW[entry.family]}/${entry.matFile}`;
}
