/**
 * The layers' import rules (see ARCHITECTURE.md), checked by `npm test`
 * (test/architecture/imports.test.ts):
 *
 *   protocol ← api → resources ← reconcile → drivers (compute, network, storage)
 *   domain/ is pure: it imports nothing of the project but itself.
 *   host/ wraps host tools and set-up (commands, cgroups): it imports only itself and domain/.
 *   runtime/ (event-loop time slices) imports nothing of the project.
 */
const layer = (name) => `^src/${name}/`;
const DRIVERS = '^src/(compute|network|storage)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'domain/ holds pure rules: it imports only domain/ (and node built-ins)',
      severity: 'error',
      from: { path: layer('domain') },
      to: { path: '^src/', pathNot: layer('domain') },
    },
    {
      name: 'protocol-knows-no-ec2',
      comment: 'protocol/ knows the wire only: besides itself it may import domain/errors.ts',
      severity: 'error',
      from: { path: layer('protocol') },
      to: { path: '^src/', pathNot: [layer('protocol'), '^src/domain/errors\\.ts$'] },
    },
    {
      name: 'api-not-reconcile-or-drivers',
      comment: 'api/ records intent through resources/; it never drives reconcilers or drivers, nor reads the wire',
      severity: 'error',
      from: { path: layer('api') },
      to: { path: ['^src/reconcile/', DRIVERS, layer('protocol')] },
    },
    {
      name: 'resources-below-api-and-reconcile',
      comment: 'resources/ is used by api/ and reconcile/ and uses neither (nor the wire, nor drivers)',
      severity: 'error',
      from: { path: layer('resources') },
      to: { path: [layer('api'), '^src/reconcile/', layer('protocol'), DRIVERS] },
    },
    {
      name: 'reconcile-not-api',
      comment: 'reconcile/ works through resources/, never through api/ or the wire',
      severity: 'error',
      from: { path: '^src/reconcile/' },
      to: { path: [layer('api'), layer('protocol')] },
    },
    {
      name: 'drivers-take-prepared-resources',
      comment: 'drivers know host resources only: no EC2 records, store, api, reconcilers or wire',
      severity: 'error',
      from: { path: DRIVERS },
      to: { path: [layer('api'), layer('resources'), '^src/reconcile/', layer('store'), layer('protocol')] },
    },
    {
      name: 'store-knows-no-ec2',
      comment: 'store/ keeps documents of kinds it is given; it imports only itself and domain/',
      severity: 'error',
      from: { path: layer('store') },
      to: { path: '^src/', pathNot: [layer('store'), layer('domain')] },
    },
    {
      name: 'host-is-a-leaf',
      comment: 'host/ runs host tools and applies host set-up; it knows no EC2, store, api or drivers',
      severity: 'error',
      from: { path: layer('host') },
      to: { path: '^src/', pathNot: [layer('host'), layer('domain')] },
    },
    {
      name: 'runtime-is-a-leaf',
      comment: 'runtime/ shares the event loop between background work; it imports nothing of the project',
      severity: 'error',
      from: { path: layer('runtime') },
      to: { path: '^src/', pathNot: layer('runtime') },
    },
    {
      name: 'no-circular',
      comment: 'no import cycles between files',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/protocol/model/.*\\.json$' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
