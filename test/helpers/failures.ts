// The activity failures a run's history records: the type (an action's error code) and retry verdict the runbook status does not show.
import type { temporal } from '@temporalio/proto';

interface RecordedFailure {
  message: string;
  type: string;
  nonRetryable: boolean;
}

/** Every ActivityTaskFailed event of a history, oldest first (one per attempt Temporal counted as failed). */
export function activityFailures(history: temporal.api.history.v1.IHistory): RecordedFailure[] {
  return (history.events ?? []).flatMap((event) => {
    const failure = event.activityTaskFailedEventAttributes?.failure;
    if (!failure) return [];
    return [
      {
        message: failure.message ?? '',
        type: failure.applicationFailureInfo?.type ?? '',
        nonRetryable: !!failure.applicationFailureInfo?.nonRetryable,
      },
    ];
  });
}
