/** Unit, integration (DynamoDB Local) and e2e (serverless offline / invoke local) suites. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // @middy/* 6.x is ESM-only; ts-jest turns it into CommonJS with the rest.
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  setupFiles: ['<rootDir>/test/support/env.ts'],
  testTimeout: 30000,
};
