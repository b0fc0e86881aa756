WITH feedback AS (
  SELECT
    CAST(`timestamp` AS TIMESTAMP) AS ts,
    CAST(_experience.customerJourneyManagement.messageDeliveryfeedback.feedbackStatus AS STRING) AS status,
    CAST(_experience.customerJourneyManagement.messageDeliveryfeedback.messageFailure.reason AS STRING) AS reason,
    CAST(_experience.customerJourneyManagement.messageExecution.messageExecutionID AS STRING) AS execution_id,
    CAST(_experience.customerJourneyManagement.messageExecution.campaignID AS STRING) AS campaign_id,
    CAST(_experience.customerJourneyManagement.messageExecution.messageID AS STRING) AS message_id,
    CAST(_experience.customerJourneyManagement.messageProfile.channel._id AS STRING) AS channel
  FROM ajo_message_feedback_event_dataset
  WHERE
    (
      CAST(_experience.customerJourneyManagement.messageExecution.campaignID AS STRING) IN ('10a05352-5768-587d-aee5-4a20a512a485')
      AND CAST(CAST(`timestamp` AS TIMESTAMP) AS DOUBLE) >= 1795161600.0
    )
    AND CAST(CAST(`timestamp` AS TIMESTAMP) AS DOUBLE) < 1795183200.0
), triggers AS (
  SELECT
    execution_id,
    requested
  FROM VALUES
    ('UMA-000000001', 1795161643.2),
    ('UMA-\'quoted', 1795161700.0) AS t(execution_id, requested)
), sent AS (
  SELECT
    campaign_id,
    channel,
    execution_id,
    message_id,
    CAST(ts AS DOUBLE) AS departure
  FROM feedback
  WHERE
    status = 'sent'
), starts AS (
  SELECT
    execution_id,
    MIN(departure) AS first_departure
  FROM sent
  GROUP BY
    execution_id
), measures AS (
  SELECT
    s.campaign_id,
    s.channel,
    s.execution_id,
    s.departure,
    'departure_spread' AS measure,
    s.departure - x.first_departure AS seconds
  FROM sent AS s
  JOIN starts AS x
    ON s.execution_id = x.execution_id
  UNION ALL
  SELECT
    s.campaign_id,
    s.channel,
    s.execution_id,
    s.departure,
    'trigger_to_departure' AS measure,
    s.departure - CAST(t.requested AS DOUBLE) AS seconds
  FROM sent AS s
  JOIN triggers AS t
    ON s.execution_id = t.execution_id
  UNION ALL
  SELECT
    s.campaign_id,
    s.channel,
    s.execution_id,
    s.departure,
    'departure_to_' || f.status AS measure,
    CAST(f.ts AS DOUBLE) - s.departure AS seconds
  FROM feedback AS f
  JOIN sent AS s
    ON f.message_id = s.message_id
  WHERE
    f.status IN ('delivered', 'delay', 'bounce')
)
SELECT
  campaign_id,
  measure,
  bucket,
  COUNT(*) AS n,
  PERCENTILE_APPROX(seconds, 0.5) AS p50,
  PERCENTILE_APPROX(seconds, 0.9) AS p90,
  MAX(seconds) AS max_seconds
FROM (
  SELECT
    campaign_id,
    measure,
    seconds,
    FLOOR((
      departure - 1795161600.0
    ) / 360.0) AS bucket
  FROM measures
) AS b
GROUP BY
  campaign_id,
  measure,
  bucket
ORDER BY
  campaign_id NULLS LAST,
  measure NULLS LAST,
  bucket NULLS LAST
