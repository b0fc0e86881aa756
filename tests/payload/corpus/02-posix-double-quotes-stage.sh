curl --request POST "https://platform-stage.adobe.io/ajo/im/executions/unitary" \
  --header "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JwdXMifQ.c2VjcmV0LXNpZ25hdHVyZQ" \
  --header "x-api-key: corpusapikey0123456789abcdef" \
  --header "x-gw-ims-org-id: 0123456789ABCDEF01234567@AdobeOrg" \
  --header "x-sandbox-name: dev" \
  --header "Content-Type: application/json" \
  --data-raw "{\"requestId\":\"corpus-1\",\"campaignId\":\"10e2583b-4d1d-4b57-bd6e-fdc79405d67d\",\"recipients\":[{\"type\":\"aep\",\"namespace\":\"email\",\"userId\":\"someone@example.com\",\"channelData\":{\"emailAddress\":\"someone@example.com\"},\"context\":{\"offerCode\":\"THANKSGIVING\"}}]}"
