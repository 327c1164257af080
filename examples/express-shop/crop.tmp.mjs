import { chromium } from 'playwright-core';
import fs from 'node:fs';
const [file, out, top, height] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 800, height: Number(height) } });
const data = fs.readFileSync(file).toString('base64');
await page.setContent(`<body style="margin:0"><img id=i src="data:image/png;base64,${data}" style="display:block;width:780px;margin-top:-${top}px"></body>`);
await page.screenshot({ path: out });
await browser.close();
