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
)
SELECT
  campaign_id,
  channel,
  status,
  COUNT(*) AS events
FROM feedback
GROUP BY
  campaign_id,
  channel,
  status
