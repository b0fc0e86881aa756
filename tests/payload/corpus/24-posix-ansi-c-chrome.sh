curl 'https://platform.adobe.io/ajo/im/executions/unitary' \
  -H 'accept: application/json' \
  -H 'authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JwdXMifQ.c2VjcmV0LXNpZ25hdHVyZQ' \
  -H 'content-type: application/json' \
  -H 'x-api-key: corpusapikey0123456789abcdef' \
  -H 'x-gw-ims-org-id: 0123456789ABCDEF01234567@AdobeOrg' \
  -H 'x-sandbox-name: prod' \
  --data-raw $'{\n  "requestId": "corpus-ansi",\n  "campaignId": "10e2583b-4d1d-4b57-bd6e-fdc79405d67d",\n  "recipients": [\n    {\n      "type": "aep",\n      "namespace": "email",\n      "userId": "o.brien@example.com",\n      "context": {\n        "lastName": "O\'Brien"\n      }\n    }\n  ]\n}'
