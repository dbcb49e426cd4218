// The RabbitMQ integration's actions, for activities/index.ts.
export { rabbitmqExportImpl } from './export.ts';
export { rabbitmqImportImpl } from './import.ts';
export { rabbitmqCheckImpl } from './check.ts';
export { testRestore } from './verify.ts';
