curl -Method POST -Uri 'https://platform.adobe.io/ajo/im/executions/unitary' `
  -Headers @{ 'Authorization' = 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JwdXMifQ.c2VjcmV0LXNpZ25hdHVyZQ'; 'x-api-key' = 'corpusapikey0123456789abcdef' } `
  -ContentType 'application/json' -Body '{"campaignId": "x"}'
