import sharp from 'sharp';

/** A small real PNG with a gradient, made in memory (no fixtures needed). */
export async function samplePng(width = 64, height = 48): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = 128;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

export async function sampleJpeg(width = 64, height = 48): Promise<Buffer> {
  return sharp(await samplePng(width, height))
    .jpeg()
    .toBuffer();
}
