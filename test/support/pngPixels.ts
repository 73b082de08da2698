/**
 * Reads the pixels of the PNGs Chromium writes (8-bit RGB or RGBA, not interlaced), to tell
 * a screenshot whose content changed from one where the renderer shaded a pixel or two
 * differently.
 */
import { inflateSync } from 'node:zlib';

export interface Pixels {
	width: number;
	height: number;
	/** Bytes per pixel: 3 (RGB) or 4 (RGBA). */
	channels: number;
	data: Buffer;
}

function paeth(a: number, b: number, c: number): number {
	const p = a + b - c;
	const pa = Math.abs(p - a);
	const pb = Math.abs(p - b);
	const pc = Math.abs(p - c);
	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export function decodePng(file: Buffer): Pixels {
	let offset = 8;
	let width = 0;
	let height = 0;
	let channels = 0;
	const chunks: Buffer[] = [];
	while (offset < file.length) {
		const length = file.readUInt32BE(offset);
		const type = file.toString('ascii', offset + 4, offset + 8);
		const body = file.subarray(offset + 8, offset + 8 + length);
		if (type === 'IHDR') {
			width = body.readUInt32BE(0);
			height = body.readUInt32BE(4);
			const [depth, color, , , interlace] = body.subarray(8, 13);
			if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0)
				throw new Error(`unsupported PNG (depth ${depth}, color type ${color})`);
			channels = color === 6 ? 4 : 3;
		} else if (type === 'IDAT') chunks.push(body);
		offset += 12 + length;
	}
	const raw = inflateSync(Buffer.concat(chunks));
	const stride = width * channels;
	const data = Buffer.alloc(stride * height);
	for (let y = 0; y < height; y++) {
		const filter = raw[y * (stride + 1)];
		const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
		for (let x = 0; x < stride; x++) {
			const left = x >= channels ? data[y * stride + x - channels] : 0;
			const up = y > 0 ? data[(y - 1) * stride + x] : 0;
			const upLeft = x >= channels && y > 0 ? data[(y - 1) * stride + x - channels] : 0;
			const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter] ?? 0;
			data[y * stride + x] = (line[x] + predictor) & 0xff;
		}
	}
	return { width, height, channels, data };
}

/** How many pixels differ between two PNGs; every pixel when their sizes differ. */
export function differingPixels(a: Buffer, b: Buffer): number {
	const one = decodePng(a);
	const other = decodePng(b);
	if (one.width !== other.width || one.height !== other.height || one.channels !== other.channels)
		return Math.max(one.width * one.height, other.width * other.height);
	let count = 0;
	for (let i = 0; i < one.data.length; i += one.channels) {
		if (one.data.compare(other.data, i, i + one.channels, i, i + one.channels) !== 0) count++;
	}
	return count;
}
