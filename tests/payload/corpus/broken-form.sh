curl -X POST https://platform.adobe.io/ajo/im/executions/unitary -H 'x-api-key: corpusapikey0123456789abcdef' -F 'payload=@unitary-body.json'
