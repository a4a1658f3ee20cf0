import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';

/**
 * Loads @zxing/text-encoding without its source-map comments. Its maps name sources that the
 * package does not ship, and Vite prints a warning for each file that it loads.
 */
const withoutZxingSourceMaps: Plugin = {
  name: 'without-zxing-source-maps',
  enforce: 'pre',
  load(id) {
    const path = id.split('?')[0]!;
    if (!path.includes('/node_modules/@zxing/text-encoding/')) return null;
    return readFileSync(path, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  },
};

export default defineConfig({
  plugins: [withoutZxingSourceMaps],
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
