curl https://platform.adobe.io/ajo/im/executions/unitary \
  -H 'Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb3JwdXMifQ.c2VjcmV0LXNpZ25hdHVyZQ' -H 'x-api-key: corpusapikey0123456789abcdef' \
  -H 'x-gw-ims-org-id: 0123456789ABCDEF01234567@AdobeOrg' -H 'x-sandbox-name: prod'
