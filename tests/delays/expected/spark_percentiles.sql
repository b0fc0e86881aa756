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
  channel,
  measure,
  COUNT(*) AS n,
  PERCENTILE_APPROX(seconds, 0.5) AS p50,
  PERCENTILE_APPROX(seconds, 0.9) AS p90,
  PERCENTILE_APPROX(seconds, 0.99) AS p99,
  MAX(seconds) AS max_seconds,
  SUM(CASE WHEN seconds < 1 THEN 1 ELSE 0 END) AS h0,
  SUM(CASE WHEN seconds >= 1 AND seconds < 10 THEN 1 ELSE 0 END) AS h1,
  SUM(CASE WHEN seconds >= 10 AND seconds < 60 THEN 1 ELSE 0 END) AS h2,
  SUM(CASE WHEN seconds >= 60 AND seconds < 300 THEN 1 ELSE 0 END) AS h3,
  SUM(CASE WHEN seconds >= 300 AND seconds < 900 THEN 1 ELSE 0 END) AS h4,
  SUM(CASE WHEN seconds >= 900 AND seconds < 3600 THEN 1 ELSE 0 END) AS h5,
  SUM(CASE WHEN seconds >= 3600 AND seconds < 14400 THEN 1 ELSE 0 END) AS h6,
  SUM(CASE WHEN seconds >= 14400 THEN 1 ELSE 0 END) AS h7
FROM measures
GROUP BY
  campaign_id,
  channel,
  measure
