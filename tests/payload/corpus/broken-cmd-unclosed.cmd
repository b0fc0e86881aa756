curl.exe -X POST "https://platform.adobe.io/ajo/im/executions/unitary" ^
  -H "x-api-key: corpusapikey0123456789abcdef" ^
  -d "{\"a\": 1}
