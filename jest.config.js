// Jest harness: three projects, one run. `npm test` runs them all; pick one with
// `npx jest --selectProjects unit|integration|e2e`.
//
// Transform: ts-jest in transpile-only mode. ts-jest 29.4 deprecates its own
// `isolatedModules` option in favour of `isolatedModules: true` in the tsconfig, so
// tsconfig.jest.json extends tsconfig.test.json with just that flag. Type checking is
// done once, separately, by `tsc -p tsconfig.test.json --noEmit` (.ci/test.sh).
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
};

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Nest and TypeORM decorators need the Reflect metadata API before any entity loads.
  setupFiles: ['reflect-metadata'],
};

/** @type {import('jest').Config} */
module.exports = {
  // The machines (dev and CI) have 2 cores: two workers keep both busy while the
  // main process only collects results. Suites that share TEST_DATABASE_URL must not
  // depend on running alone (use a schema/table prefix per JEST_WORKER_ID if needed).
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
    },
    {
      ...common,
      // issue 12 §3: one behaviour suite per provider driver (simulated, libvirt test:///default, qemu:///system)
      displayName: 'contract',
      testMatch: ['<rootDir>/test/contract/**/*.spec.ts'],
      testTimeout: 120000,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'],
      testTimeout: 60000,
    },
  ],
};
