/**
 * The README's screenshots are rewritten only when their content changes: the pixel
 * comparison behind that, on PNGs made here and on the committed ones.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';

import { ROOT } from '../harness/pack';
import { RENDERING_NOISE_PIXELS } from '../support/editor';
import { decodePng, differingPixels } from '../support/pngPixels';

function chunk(type: string, body: Buffer): Buffer {
	const head = Buffer.alloc(8);
	head.writeUInt32BE(body.length, 0);
	head.write(type, 4, 'ascii');
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])));
	return Buffer.concat([head, body, crc]);
}

/** A white RGB PNG with the given pixels painted black, rows filtered with "up" to exercise it. */
function png(width: number, height: number, black: Array<[number, number]>): Buffer {
	const pixels = Buffer.alloc(width * height * 3, 0xff);
	for (const [x, y] of black) pixels.fill(0, (y * width + x) * 3, (y * width + x) * 3 + 3);
	const stride = width * 3;
	const rows: Buffer[] = [];
	for (let y = 0; y < height; y++) {
		const row = Buffer.alloc(stride + 1);
		row[0] = 2;
		for (let x = 0; x < stride; x++) {
			const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
			row[x + 1] = (pixels[y * stride + x] - up) & 0xff;
		}
		rows.push(row);
	}
	const header = Buffer.alloc(13);
	header.writeUInt32BE(width, 0);
	header.writeUInt32BE(height, 4);
	header.set([8, 2, 0, 0, 0], 8);
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', header),
		chunk('IDAT', deflateSync(Buffer.concat(rows))),
		chunk('IEND', Buffer.alloc(0)),
	]);
}

describe('screenshot comparison', () => {
	it('counts exactly the pixels that differ', () => {
		const blank = png(40, 30, []);
		const marked = png(40, 30, [
			[0, 0],
			[39, 29],
			[20, 15],
		]);
		assert.equal(decodePng(marked).data[0], 0);
		assert.equal(differingPixels(blank, blank), 0);
		assert.equal(differingPixels(blank, marked), 3);
		assert.equal(differingPixels(blank, png(41, 30, [])), 41 * 30, 'a new size differs whole');
	});

	it('the committed screenshots decode, and each differs from the others by far more than noise', () => {
		const shots = readdirSync(join(ROOT, 'docs'))
			.filter((f) => f.endsWith('.png'))
			.map((f) => readFileSync(join(ROOT, 'docs', f)));
		assert.ok(shots.length >= 5, `${shots.length} screenshots in docs/`);
		for (const [i, shot] of shots.entries()) {
			assert.equal(differingPixels(shot, shot), 0);
			if (i > 0) assert.ok(differingPixels(shots[i - 1], shot) > 100 * RENDERING_NOISE_PIXELS);
		}
	});
});
