/** jest: TypeScript through @swc/jest; e2e tests start real local platforms, so they get more time. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest'] },
  // hyparquet and hyparquet-writer ship ES modules only: let swc turn them into CommonJS too.
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer)/)'],
  testTimeout: 120000,
  maxWorkers: 2,
};
