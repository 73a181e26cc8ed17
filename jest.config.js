/** jest: TypeScript through @swc/jest; e2e tests start real local platforms, so they get more time. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest'] },
  testTimeout: 120000,
  maxWorkers: 2,
};
