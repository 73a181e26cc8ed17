/** jest: TypeScript through @swc/jest; e2e tests start real local platforms, so they get more time. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest'] },
  // hyparquet, hyparquet-writer and dt-sql-parser (with its antlr4ng runtime) ship ES modules only:
  // let swc turn them into CommonJS too.
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer|dt-sql-parser|antlr4ng|antlr4-c3)/)'],
  testTimeout: 120000,
  maxWorkers: 2,
};
