curl -X POST 'https://platform.adobe.io/ajo/im/executions/unitary' \
  -H 'Authorization: Bearer {ACCESS_TOKEN}' \
  -H 'x-api-key: {API_KEY}' \
  -H 'x-gw-ims-org-id: {ORG_ID}' \
  -H 'x-sandbox-name: {SANDBOX_NAME}' \
  -H 'Content-Type: application/json' \
  -d '{"requestId":"corpus-1","campaignId":"10e2583b-4d1d-4b57-bd6e-fdc79405d67d","recipients":[{"type":"aep","namespace":"email","userId":"someone@example.com","channelData":{"emailAddress":"someone@example.com"},"context":{"offerCode":"THANKSGIVING"}}]}'
