curl -X POST https://platform.adobe.io/ajo/im/executions/unitary \
  -H 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JwdXMifQ.c2VjcmV0LXNpZ25hdHVyZQ' \
  -H 'x-api-key: corpusapikey0123456789abcdef' \
  -d '{"requestId": "1", "campaignId": "10e2583b-4d1d-4b57-bd6e-fdc79405d67d" "recipients": []}'
