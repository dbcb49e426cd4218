// Notices a run that no worker will pick up: nobody polls its task queue.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;

/** Whether any worker polled `taskQueue` recently (Temporal keeps pollers for a few minutes). */
export async function hasPollers(client: Client, taskQueue: string): Promise<boolean> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return (pollers?.length ?? 0) > 0;
}

/** The advice a run waiting on an empty task queue prints, once. */
export function noWorkerAdvice(taskQueue: string): string {
  const site = taskQueue === 'rebound' ? '' : ` --site ${taskQueue.replace(/^rebound-/, '')}`;
  return `no worker polls task queue ${taskQueue}; the run waits until one does. Start one with: rebound worker${site} (same TEMPORAL_ADDRESS and namespace)`;
}
