import { checkTexts } from '/work/main/lib/store/rule-statements.js'
const scope: any = { schema: 'w', groupDepth: 8, hierarchy: process.argv[2] === 'tree' ? { parentTypes: ['folder', 'project', 'org'] } : null }
console.log(checkTexts(scope).many)
console.log('-----')
console.log(checkTexts(scope).one)
